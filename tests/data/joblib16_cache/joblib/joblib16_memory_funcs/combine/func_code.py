# first line: 16
def combine(a, b=2, *args, scale=1, **kwargs):
    CALLS.append(("combine", a, b, args, scale, tuple(sorted(kwargs))))
    return {"sum": (a + b + sum(args)) * scale, "keys": sorted(kwargs)}
