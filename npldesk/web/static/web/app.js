// npldesk's own script: small behaviours without inline script (the CSP allows none).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("select[data-autosubmit]")) {
    target.form.submit();
  }
});

// The tape page's upload: how much of the file has been sent (htmx posts the form).
document.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-progress");
  var detail = event.detail || {};
  if (bar && detail.lengthComputable && detail.total) {
    bar.hidden = false;
    bar.value = Math.round((detail.loaded / detail.total) * 100);
  }
});
