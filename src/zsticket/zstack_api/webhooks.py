"""``X-Web-Hook`` callbacks: POST the job's final body, retrying like RestServer.callWebHook."""

from __future__ import annotations

import logging
import threading
import time

import httpx

log = logging.getLogger("zsticket.webhook")


def post_job_result(url: str, *, job_uuid: str, success: bool, body: str, retries: int, interval: float) -> None:
    """Deliver in a background thread; the API answer never waits for the receiver."""

    def deliver() -> None:
        headers = {
            "X-Job-UUID": job_uuid,
            "X-Job-Success": "true" if success else "false",
            "Content-Type": "application/json; charset=utf-8",
        }
        for attempt in range(1, retries + 1):
            try:
                response = httpx.post(url, content=body.encode(), headers=headers, timeout=10)
                if response.is_success:
                    return
                log.warning("webhook %s for job %s answered %s", url, job_uuid, response.status_code)
            except httpx.HTTPError as exc:
                log.warning("webhook %s for job %s failed (attempt %d): %s", url, job_uuid, attempt, exc)
            time.sleep(interval)
        log.error("webhook %s for job %s given up after %d attempts", url, job_uuid, retries)

    threading.Thread(target=deliver, name=f"webhook-{job_uuid}", daemon=True).start()
