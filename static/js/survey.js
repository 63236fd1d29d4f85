// The answering pages: a "Clear this answer" button under each question with choices, since
// a radio button cannot be unticked and every question may be skipped. Without JavaScript
// the buttons stay hidden.
document.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll("[data-survey-clear]");
  buttons.forEach(function (button) {
    var name = button.getAttribute("data-survey-clear");
    var form = button.closest("form");
    var radios = form ? form.querySelectorAll('input[type="radio"][name="' + name + '"]') : [];
    if (!radios.length) {
      return;
    }
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      radios.forEach(function (radio) {
        radio.checked = false;
      });
      radios[0].focus();
    });
  });
});
