"""Progress reporting for long library calls: a user callback, else a tqdm bar when tqdm is
installed and progress=True, else nothing."""


def dataset_reporter(progress, what):
    """What to pass the library as its dataset progress callback (None: no reporting).
    progress: None/False (quiet), True (tqdm if installed), or a callable taking the event dict."""
    if not progress:
        return None, None
    if callable(progress):
        return progress, None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, None
    bar = tqdm(desc=what, unit="clip" if what == "prepare" else "B", unit_scale=what != "prepare")

    def on_event(event):
        if what == "prepare":
            if event["items_total"] and bar.total != event["items_total"]:
                bar.total = event["items_total"]
            bar.n = event["items_done"]
        elif event["event"] == "bytes":
            bar.n = event["bytes_all_done"]
        if event["event"] in ("partition_failed", "clip_bad") and event["message"]:
            bar.write(f"{event['item']}: {event['message']}")
        bar.refresh()

    return on_event, bar
