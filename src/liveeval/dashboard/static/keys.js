// Keyboard shortcuts: an element with data-key="x" is clicked (a link) or focused (a
// field) when x is pressed outside a text field, without modifier keys.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var here = event.target;
    if (here && (here.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(here.tagName))) return;
    var found = document.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
    if (!found) return;
    event.preventDefault();
    if (found.tagName === "A") found.click();
    else found.focus();
  });
})();
