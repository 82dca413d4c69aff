// "Select all" on the card list: ticks every printable card of the page for the A4 sheet.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-tx-select-all]").forEach(function (toggle) {
    var name = toggle.getAttribute("data-tx-select-all");
    toggle.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        box.checked = toggle.checked;
      });
    });
  });
});
