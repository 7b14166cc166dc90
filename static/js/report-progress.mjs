// Moves each report's progress bar while the worker builds it, by polling the
// report's JSON status, and swaps in the finished row (its status tag, download
// link or "Try again" button, as the server draws it) without reloading the
// page: a reload would wipe a half-filled request form and move focus (WCAG
// 2.2.1). Without JavaScript the page offers a "Refresh the page" link instead.
const POLL_MS = 1500

function announce (message) {
  const region = document.getElementById('report-announcements')
  if (region) region.textContent = message
}

// The server's own rendering of the finished row, fetched from this page's URL.
async function replaceRow (row) {
  const response = await fetch(window.location.pathname, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
  if (!response.ok) return false
  const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById(row.id)
  if (!fresh) return false
  // Keep focus where it is: only when it was inside the old row does it go to the new one.
  const hadFocus = row.contains(document.activeElement)
  const imported = document.importNode(fresh, true)
  row.replaceWith(imported)
  if (hadFocus) imported.querySelector('a, button')?.focus()
  return true
}

function poll (element) {
  const url = element.dataset.statusUrl
  const row = element.closest('tr')
  const bar = element.querySelector('progress')
  const text = element.querySelector('.app-report-progress__text')
  let lastLabel = text.textContent.split(':')[0]

  async function tick () {
    let status
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (!response.ok) return schedule()
      status = await response.json()
    } catch (error) {
      return schedule()
    }
    bar.value = status.progress
    bar.textContent = `${status.progress}%`
    text.textContent = `${status.status_label}: ${status.progress}%`
    // Screen readers hear the status when it changes (queued, building, ready), not every percent.
    if (status.status_label !== lastLabel) {
      announce(`Report ${status.status_label.toLowerCase()}`)
      lastLabel = status.status_label
    }
    if (status.finished) {
      let replaced = false
      try {
        replaced = row ? await replaceRow(row) : false
      } catch (error) {
        replaced = false
      }
      if (!replaced) schedule()
      return
    }
    schedule()
  }

  function schedule () {
    window.setTimeout(tick, POLL_MS)
  }

  schedule()
}

document.querySelectorAll('[data-module="app-report-progress"]').forEach(poll)
