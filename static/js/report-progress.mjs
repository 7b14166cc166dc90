// Moves each report's progress bar while the worker builds it, by polling the
// report's JSON status. Without JavaScript the page refreshes itself instead
// (a <noscript> meta refresh), so this is an enhancement only.
const POLL_MS = 1500

function poll (element) {
  const url = element.dataset.statusUrl
  const bar = element.querySelector('progress')
  const text = element.querySelector('.app-report-progress__text')
  const announce = element.querySelector('.app-report-progress__announce')
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
      announce.textContent = `Report ${status.status_label.toLowerCase()}`
      lastLabel = status.status_label
    }
    if (status.finished) {
      // The server draws the finished row (its status tag and download link).
      window.location.reload()
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
