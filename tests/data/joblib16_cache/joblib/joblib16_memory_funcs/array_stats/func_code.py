# first line: 26
def array_stats(arr):
    CALLS.append(("array_stats",))
    return arr * 2, float(arr.sum())
