// The live view of a session (templates/sessions_app/agenda/live.html) and the agenda page's
// print button. Our own small script: no inline code (CSP), URLs come from data- attributes.
//
// The state lives on the server. This script asks for it every few seconds, counts down
// locally between answers, and sends the facilitator's actions (buttons or keyboard) as
// POSTs whose answer is the new state. See docs/agenda.md for the timing rules.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) {
      window.print();
    }
    var full = event.target.closest("[data-fullscreen]");
    if (full) {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen();
      }
    }
  });

  var POLL_MS = 5000;
  var root = null;
  var state = null;
  var receivedAt = 0;
  var polling = false;
  var sending = false;
  var actionsSent = 0; // actions sent so far: a poll answer older than the last one is stale

  function byId(id) {
    return document.getElementById(id);
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.ceil(seconds));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function running() {
    return state && state.started && !state.paused;
  }

  function setText(id, text) {
    var element = byId(id);
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function form(action) {
    return root.querySelector('form[data-live-action="' + action + '"]');
  }

  function render() {
    if (!state) {
      return;
    }
    var passed = running() ? (performance.now() - receivedAt) / 1000 : 0;
    var segmentLeft = state.seconds_left_segment - passed;
    var overallLeft = state.seconds_left_overall - passed;
    var warningAt = parseInt(root.getAttribute("data-warning-seconds"), 10) || 300;
    var finished = state.started && overallLeft <= 0;

    setText("live-segment-title", state.segment_title);
    setText("live-segment-guidance", state.segment_guidance);
    setText("live-segment-offset", state.segment_offset);
    setText("live-segment-number", String(state.segment_index + 1));
    setText("live-segment-left", clock(segmentLeft));
    setText("live-overall-left", clock(overallLeft));
    setText("live-next-title", state.next_segment_title || "end of the session");
    var status = !state.started ? "Not started" : finished ? "Time is up" : state.paused ? "Paused" : "Running";
    if (state.extra_minutes) {
      status += " · extended by " + state.extra_minutes + " min";
    }
    setText("live-status", status);

    var alert = byId("live-alert");
    alert.hidden = !(state.started && overallLeft <= warningAt);
    setText("live-alert-text", finished ? "Time is up" : "5 minutes left");
    root.classList.toggle("live-warning", !alert.hidden);
    root.classList.toggle("live-paused", !!state.paused);

    // A control that disappears or is disabled while it has the focus would drop the focus
    // to the page (and a screen reader's place with it): hand it to the control that takes
    // its place (Pause after Start, Resume after Pause, Pause after Resume), else the status.
    var focused = document.activeElement;
    form("start").hidden = state.started;
    form("pause").hidden = !state.started || state.paused;
    form("resume").hidden = !state.paused;
    form("next").querySelector("button").disabled = !state.started || !state.next_segment_title;
    form("extend").querySelector("button").disabled = !state.started;
    if (focused && root.contains(focused) && (focused.disabled || !focused.offsetParent)) {
      var successor = ["pause", "resume", "start"]
        .map(function (action) { return form(action); })
        .filter(function (f) { return f && !f.hidden; })[0];
      var target = successor ? successor.querySelector("button") : byId("live-status");
      if (target === byId("live-status")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }

    var items = root.querySelectorAll("#live-segments li");
    for (var i = 0; i < items.length; i++) {
      var current = i === state.segment_index;
      items[i].classList.toggle("current", current);
      if (current) {
        items[i].setAttribute("aria-current", "step");
      } else {
        items[i].removeAttribute("aria-current");
      }
    }

    // A segment (or the session) ran out between two answers: ask the server what is next.
    if (running() && ((segmentLeft <= 0 && state.next_segment_title) || (overallLeft <= 0 && !state.finished))) {
      poll();
    }
  }

  function accept(newState) {
    state = newState;
    receivedAt = performance.now();
    render();
  }

  function showError(text) {
    var box = byId("live-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function poll() {
    if (polling) {
      return;
    }
    polling = true;
    // An action sent while this poll is on its way makes its answer stale: the poll may have
    // read the state before the action changed it, and would show the old state until the
    // next poll. Its answer is then left out (the action's own answer has the new state).
    var actionsBefore = actionsSent;
    fetch(root.getAttribute("data-state-url"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("The server answered " + response.status + ".");
        }
        return response.json();
      })
      .then(function (data) {
        if (actionsSent !== actionsBefore) {
          return;
        }
        showError("");
        accept(data);
      })
      .catch(function () {
        showError("Cannot reach the server: the clock may be out of date. Retrying…");
      })
      .finally(function () {
        polling = false;
      });
  }

  function act(action) {
    var target = form(action);
    if (!target || sending) {
      return;
    }
    sending = true;
    actionsSent += 1;
    var token = target.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(target.action, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": token },
      credentials: "same-origin",
      body: new FormData(target),
    })
      .then(function (response) {
        return response.json().catch(function () {
          throw new Error("The server answered " + response.status + ".");
        });
      })
      .then(function (data) {
        showError(data.error || "");
        if (data.state) {
          accept(data.state);
        }
      })
      .catch(function (error) {
        showError(error.message);
      })
      .finally(function () {
        sending = false;
      });
  }

  function onSubmit(event) {
    var action = event.target.getAttribute("data-live-action");
    if (action) {
      event.preventDefault();
      act(action);
    }
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !state) {
      return;
    }
    var tag = event.target.tagName;
    // Typing, and the keys a focused control answers itself (Space and Enter press a button
    // or follow a link): the page-wide shortcuts stay out of the way.
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      return;
    }
    if ((tag === "BUTTON" || tag === "A" || tag === "SUMMARY") &&
        (event.key === " " || event.key === "Spacebar" || event.key === "Enter")) {
      return;
    }
    var key = event.key;
    if (key === " " || key === "Spacebar") {
      event.preventDefault();
      act(!state.started ? "start" : state.paused ? "resume" : "pause");
    } else if (key === "n" || key === "N" || key === "ArrowRight") {
      event.preventDefault();
      act("next");
    } else if (key === "e" || key === "E") {
      event.preventDefault();
      act("extend");
    }
  }

  function init() {
    root = byId("live");
    if (!root) {
      return;
    }
    root.addEventListener("submit", onSubmit);
    document.addEventListener("keydown", onKey);
    poll();
    window.setInterval(poll, POLL_MS);
    window.setInterval(render, 250);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
