// Our own small script. Inline scripts are forbidden by the Content Security Policy.
// Forms or buttons with data-confirm="question" ask before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Long pickers get a search box: Tom Select (static/vendor/tom-select/) enhances every
// <select data-search>, and every other <select> with more than SEARCH_AFTER options unless it
// is marked data-no-search. The <select> stays in the form (hidden, same name and id), so forms
// post as before; its <label> is moved to Tom Select's input, a combobox. Content swapped in by
// htmx is enhanced too.
(function () {
  "use strict";

  var SEARCH_AFTER = 15;

  function wanted(select) {
    if (select.hasAttribute("data-no-search")) {
      return false;
    }
    return select.hasAttribute("data-search") || select.options.length > SEARCH_AFTER;
  }

  // A page htmx restores from its history cache holds a copy of an enhanced picker without
  // its script: remove the copy and give the <select> back its label before enhancing again.
  function undoCopy(select) {
    var control = select.id + "-ts-control";
    var copies = [select.nextElementSibling, document.getElementById(select.id + "-ts-dropdown")];
    copies.forEach(function (copy) {
      var wrapper = copy && copy.closest(".ts-wrapper");
      if (wrapper) {
        wrapper.remove();
      }
    });
    document.querySelectorAll("label").forEach(function (label) {
      if (label.htmlFor === control) {
        label.htmlFor = select.id;
      }
    });
    select.classList.remove("tomselected", "ts-hidden-accessible");
    select.removeAttribute("tabindex");
    select.removeAttribute("aria-hidden");
  }

  function enhance(select) {
    if (select.tomselect || !wanted(select)) {
      return;
    }
    if (select.classList.contains("tomselected")) {
      undoCopy(select);
    }
    // An optional picker's empty choice ("No room") stays a choice; a required one's
    // ("---------") only says nothing is chosen yet, as the placeholder.
    var empty = select.querySelector('option[value=""]');
    var emptyText = empty ? empty.textContent.trim() : "";
    var options = {
      allowEmptyOption: !select.required,
      placeholder: /^-*$/.test(emptyText) ? "Type to search" : emptyText,
      maxOptions: null, // all of them, not the first 50
      plugins: select.multiple ? ["remove_button"] : [],
    };
    // <select data-search-url>: too many choices for the page; the server finds them as one
    // types ({"results": [{"value", "text"}]}), and its order is kept.
    var url = select.getAttribute("data-search-url");
    if (url) {
      options.placeholder = "Type a name";
      options.valueField = "value";
      options.labelField = "text";
      options.searchField = [];
      options.score = function () {
        return function () {
          return 1;
        };
      };
      options.load = function (query, callback) {
        var address = url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query);
        window
          .fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.ok ? response.json() : { results: [] };
          })
          .then(function (found) {
            callback(found.results);
          })
          .catch(function () {
            callback();
          });
      };
    }
    var picker = new window.TomSelect(select, options);
    // The hidden <select> would stay in the accessibility tree as a second, unnamed combobox.
    select.setAttribute("aria-hidden", "true");
    var input = picker.control_input;
    // Without a <label for> Tom Select leaves its input unnamed: name it like the <select>.
    if (!input.hasAttribute("aria-labelledby") && !input.hasAttribute("aria-label")) {
      var label = select.labels && select.labels[0];
      var name = select.getAttribute("aria-label") || (label && label.textContent.trim());
      if (name) {
        input.setAttribute("aria-label", name);
      }
    }
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (attribute) {
      if (select.hasAttribute(attribute)) {
        input.setAttribute(attribute, select.getAttribute(attribute));
      }
    });
  }

  function enhanceWithin(root) {
    if (!window.TomSelect || !root || !root.querySelectorAll) {
      return;
    }
    if (root.matches("select")) {
      enhance(root);
    }
    root.querySelectorAll("select").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceWithin(document.body);
  });
  document.addEventListener("htmx:load", function (event) {
    enhanceWithin(event.detail.elt);
  });
  // htmx keeps a copy of the page when it changes the address. Tom Select hides its dropdown
  // through element.style, which the copy would turn into a style="" the CSP blocks: leave the
  // style out of the copy (it is put back before the page is drawn again).
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll(".ts-wrapper[style], .ts-wrapper [style]").forEach(function (element) {
      var style = element.style.cssText;
      element.removeAttribute("style");
      window.queueMicrotask(function () {
        element.style.cssText = style;
      });
    });
  });
  document.addEventListener("htmx:historyRestore", function () {
    enhanceWithin(document.body);
  });
})();

// Wide tables on a phone: every table in a .table-responsive box (unless data-no-stack)
// stacks its rows as "column: value" lines below 576px (static/css/ccdg.css, .table-stack)
// instead of scrolling sideways or hiding columns. The labels come from the table's header
// row; cells that already carry a data-label keep theirs. Tables htmx swaps in are done too.
(function () {
  "use strict";

  function labelTable(table) {
    if (table.hasAttribute("data-no-stack") || !table.tHead) {
      return;
    }
    var headerRow = table.tHead.rows[table.tHead.rows.length - 1];
    if (!headerRow) {
      return;
    }
    var labels = [];
    for (var i = 0; i < headerRow.cells.length; i++) {
      var cell = headerRow.cells[i];
      var text = cell.textContent.replace(/\s+/g, " ").trim();
      for (var span = 0; span < (cell.colSpan || 1); span++) {
        labels.push(text);
      }
    }
    table.classList.add("table-stack");
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var column = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var td = rows[r].cells[c];
          if (!td.hasAttribute("data-label") && labels[column] && (td.colSpan || 1) === 1) {
            td.setAttribute("data-label", labels[column]);
          }
          column += td.colSpan || 1;
        }
      }
    }
  }

  function labelAll(root) {
    var tables = (root || document).querySelectorAll(".table-responsive > table");
    for (var i = 0; i < tables.length; i++) {
      labelTable(tables[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { labelAll(document); });
  } else {
    labelAll(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { labelAll(event.target); });
})();
