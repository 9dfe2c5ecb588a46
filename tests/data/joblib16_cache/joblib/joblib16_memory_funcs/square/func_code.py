# first line: 11
def square(x):
    CALLS.append(("square", x))
    return x * x
