/* The till's confirm step: the price after the benefit follows the value typed, and the
 * confirm button is pressed once only (the server records one use per form anyway).
 *
 * <form data-till-confirm data-kind="free|percent_off|fixed_price" data-percent data-fixed>
 * with an input [data-till-value] and spans [data-till-pays], [data-till-benefit].
 * No libraries; the page works without it.
 */
(function () {
  "use strict";

  function yuan(text) {
    var value = String(text || "");
    if (value.normalize) { value = value.normalize("NFKC"); }
    value = value.replace(/[¥元,\s]/g, "").replace(/。/g, ".");
    if (!/^\d+(\.\d{0,2})?$/.test(value)) { return null; }
    return Math.round(parseFloat(value) * 100);  // in fen
  }

  function paysFor(form, before) {
    var kind = form.dataset.kind;
    if (kind === "free") { return 0; }
    if (kind === "percent_off") {
      var share = 100 - parseFloat(form.dataset.percent);
      return Math.round(before * share / 100);
    }
    var fixed = yuan(form.dataset.fixed);
    return fixed === null ? before : Math.min(before, fixed);
  }

  function show(fen) { return (fen / 100).toFixed(2); }

  function setUp(form) {
    var input = form.querySelector("[data-till-value]");
    var pays = form.querySelector("[data-till-pays]");
    var benefit = form.querySelector("[data-till-benefit]");
    if (input && pays && benefit) {
      input.addEventListener("input", function () {
        var before = yuan(input.value);
        if (before === null) { pays.textContent = "—"; benefit.textContent = "—"; return; }
        var after = paysFor(form, before);
        pays.textContent = show(after);
        benefit.textContent = show(before - after);
      });
    }
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-till-confirm]").forEach(setUp);
  });
})();
