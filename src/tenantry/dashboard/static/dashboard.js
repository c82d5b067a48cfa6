// The one script of the dashboard: copy a just-created key to the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copied");
  try {
    await navigator.clipboard.writeText(field.value);
    if (status) status.textContent = "Copied";
  } catch {
    field.select();
    if (status) status.textContent = "Press Ctrl+C (⌘C) to copy";
  }
});
