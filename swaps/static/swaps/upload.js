// The upload form's progress bar: htmx reports the request's upload progress as
// "htmx:xhr:progress"; once every byte is sent, the server is looking for faces.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("[data-upload-form]");
  if (!form || !event.detail.lengthComputable) return;
  const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
  form.querySelector("[data-upload-progress]").hidden = false;
  form.querySelector("[data-upload-bar]").style.width = `${percent}%`;
  form.querySelector("[data-upload-percent]").textContent = `${percent}%`;
  form.querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(percent));
  if (percent >= 100) {
    form.querySelector("[data-upload-label]").textContent = "Uploaded. Finding the faces…";
  }
});
