// The console works without JavaScript; this only wires the print buttons
// (a script file, because the pages' CSP forbids inline script).
document.querySelectorAll("[data-print]").forEach(function (b) {
  b.addEventListener("click", function () { window.print(); });
});
