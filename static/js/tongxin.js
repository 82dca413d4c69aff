/* Tongxin's page behaviour, loaded with `defer` by base.html and the print pages.
 *
 * The Content Security Policy allows no inline script and no on* attribute, so templates
 * say what they want with data attributes and this file does it:
 *   <form data-tx-confirm="Archive this household?">  asks before sending; Cancel sends nothing
 *   <form data-tx-once>                               a double tap sends the form once
 *   <button data-tx-print>                            prints the page
 *   <input data-tx-filter="box-id">                   narrows the checkboxes inside #box-id to
 *                                                     what is typed (ticked ones stay in view)
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var question = form.getAttribute("data-tx-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-tx-once") && !event.defaultPrevented) {
      if (form.getAttribute("data-tx-sent") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-tx-sent", "1");
      var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
      window.setTimeout(function () {
        buttons.forEach(function (button) { button.disabled = true; });
      }, 0);
    }
  });

  // A page restored from the back-forward cache gets its buttons back.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-tx-sent]").forEach(function (form) {
      form.removeAttribute("data-tx-sent");
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = false;
      });
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-tx-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  document.addEventListener("input", function (event) {
    var target = event.target;
    var box = target.getAttribute && target.getAttribute("data-tx-filter");
    if (!box) { return; }
    var container = document.getElementById(box);
    if (!container) { return; }
    var text = target.value.trim().toLowerCase();
    container.querySelectorAll("input[type=checkbox]").forEach(function (input) {
      var match = !text || input.checked || (input.getAttribute("data-search") || "").indexOf(text) !== -1;
      var row = input.closest(".form-check") || input.parentElement;
      row.classList.toggle("d-none", !match);
    });
  });
})();
