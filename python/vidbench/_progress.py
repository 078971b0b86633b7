"""Progress reporting for long library calls: a user callback, else a tqdm bar when tqdm is
installed and progress=True, else nothing."""


def reporter(progress, what):
    """(callback for the library or None, bar to close or None). progress: None/False (quiet),
    True (a tqdm bar if tqdm is installed), or a callable taking the library's event dict.
    what: 'download' (bytes), 'prepare' (clips) or 'evaluate' (clips, with skips)."""
    if not progress:
        return None, None
    if callable(progress):
        return progress, None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, None
    bar = tqdm(desc=what, unit="B" if what == "download" else "clip", unit_scale=what == "download")

    def on_event(event):
        if what == "evaluate":
            bar.total, bar.n = event["total"], event["done"]
            bar.set_postfix(skipped=event["skipped"], refresh=False)
        elif what == "prepare":
            bar.total, bar.n = event["items_total"] or bar.total, event["items_done"]
        elif event["event"] == "bytes":
            bar.n = event["bytes_all_done"]
        if event.get("event") in ("partition_failed", "clip_bad") and event["message"]:
            bar.write(f"{event['item']}: {event['message']}")
        bar.refresh()

    return on_event, bar
