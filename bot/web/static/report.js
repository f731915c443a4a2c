// Report page (/diagnostics/<id>): wires the « Imprimer / PDF » button.
// Loaded with `defer` from our own origin: the page's CSP forbids inline scripts and onclick attributes.
(function () {
  "use strict";
  if (typeof window.print !== "function") {
    return; // the button stays hidden where printing is not available (some in-app browsers)
  }
  var buttons = document.querySelectorAll("[data-action='print']");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
    // Hidden in the HTML so that, without this script, no button does nothing.
    button.hidden = false;
  });
})();
