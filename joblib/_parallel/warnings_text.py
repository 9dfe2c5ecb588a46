"""Text of the warning given when a result generator is closed early."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["exit_early_message"]


def exit_early_message(call: Any) -> str:
    """Describe the work wasted by closing the generator ('' if none)."""
    ready = call.n_completed_tasks - call.nb_consumed
    completed = call.n_completed_tasks == call.n_dispatched_tasks and not call.iterating
    msg = ""
    if ready > 0:
        msg += f"{ready} tasks have been successfully executed  but not used."
        if not completed:
            msg += " Additionally, "
    if not completed:
        msg += (f"{call.n_dispatched_tasks - call.n_completed_tasks} tasks which "
                "were still being processed by the workers have been cancelled.")
    if msg:
        msg += (" You could benefit from adjusting the input task iterator to "
                "limit unnecessary computation time.")
    return msg
