// npldesk's own script: small behaviours without inline script (the CSP allows none).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("select[data-autosubmit]")) {
    target.form.submit();
  }
});
