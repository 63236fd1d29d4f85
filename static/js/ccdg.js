// Our own small script. Inline scripts are forbidden by the Content Security Policy.
// Forms or buttons with data-confirm="question" ask before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
