"""What runs inside the workers besides the tasks: per-worker set-up and
state, the parent watch, broadcast objects and forwarded logs."""
