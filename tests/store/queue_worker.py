"""A bare queue worker process for the multi-process queue tests.

    python -m tests.store.queue_worker URL NAME LEASE_S [--hang]

Claims jobs with the real store code and completes each with a score, printing
`done <job_id>` per job; exits when nothing is queued or leased. With --hang it
claims once, prints `claimed <ids>` and then waits to be killed.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from liveeval.model import Score, ScoreKind
from liveeval.store import jobs
from liveeval.store.database import open_store


def main(url: str, name: str, lease_s: float, hang: bool) -> None:
    store = open_store(url, migrate=False)
    lease = timedelta(seconds=lease_s)
    while True:
        with store.writing() as conn:
            claimed = jobs.claim(conn, name, 5, datetime.now(UTC), lease)
        if hang:
            print("claimed", " ".join(str(j.job_id) for j in claimed), flush=True)
            time.sleep(3600)
        if not claimed:
            with store.reading() as conn:
                left = jobs.counts(conn)
            if left["queued"] == 0 and left["leased"] == 0:
                break
            time.sleep(0.05)
            continue
        time.sleep(0.01)  # the judging
        with store.writing() as conn:
            for job in claimed:
                score = Score(
                    project=job.project,
                    interaction_id=job.interaction_id,
                    name=job.rubric,
                    kind=ScoreKind.JUDGE,
                    value=3.0,
                    details={"worker": name},
                    created_at=datetime.now(UTC),
                )
                jobs.complete(conn, job, score, datetime.now(UTC))
        for job in claimed:
            print("done", job.job_id, flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), "--hang" in sys.argv)
