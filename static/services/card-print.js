// The print button of the printable card pages (no inline script on any page).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-tx-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
