# first line: 21
def describe(text, options=None, debug=False):
    CALLS.append(("describe", text))
    return "%s:%s" % (text, sorted((options or {}).items()))
