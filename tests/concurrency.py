"""``run_concurrently`` (after django-oscar): start N threads at a barrier."""

import threading

from django.db import connection


def run_concurrently(worker, num_threads=5):
    """Run ``worker()`` in ``num_threads`` threads released together; return results.

    Each result is the worker's return value or the exception it raised.
    """
    barrier = threading.Barrier(num_threads)
    results = [None] * num_threads

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = worker()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
