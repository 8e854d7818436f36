"""A fine-tuning round on another machine (a GPU node) through a dask.distributed scheduler.

The viewer stays on the laptop: the round's examples and the parent model travel to a worker,
which runs the same :func:`finetune.fine_tune` as a local round; its progress events come back
through a distributed Queue, Cancel sets a distributed Event the worker polls every step, and the
trained model comes back as tensors, a card and the criterion's bytes, to be written into a
workspace and committed like a local round (:func:`rounds.commit`). A round whose worker or scheduler
is lost stops with one line and changes nothing: dask would start it over on another worker unsaid
(a round that exhausts its worker's memory would take down one worker after another).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import replace
from functools import partial

from .. import __version__
from ..errors import ParticleDetectError
from .finetune import FINE_TUNE, RoundResult, fine_tune, round_defaults
from ..models import DetectorModel, save_model
from ..models.registry import ModelCard, network_for_weights
from ..projects.project import Project
from ..detection.preprocessing import as_frames
from ..detection.rescoring import Criterion
from .rounds import (
    RoundOutcome, TrainedOn, prepare_round, retry_seed, round_info, unlabelled_example, unlabelled_frame_numbers,
)
from .pseudo_labels import spread
from .training import Example, TrainConfig, TrainingCancelled

log = logging.getLogger(__name__)

# How often the laptop side looks for progress and for the user's Cancel.
POLL_S = 0.2
# How long the scheduler has to answer, and then to have a worker for the round's tasks.
CONNECT_TIMEOUT_S = 10
# How often the laptop side asks the scheduler whether the worker training the round is still there.
WORKER_CHECK_S = 1.0
# How long a task may wait to start before the round says it waits for a worker: a busy GPU node's queue showed
# "preparing the reviewed frames…" for as long as the rounds ahead of it trained.
QUEUED_AFTER_S = 2.0
# How long every worker has to say which version it runs: a worker whose process is stuck (stopped, swapping, its
# event loop blocked) never answers, and the round waited for it for ever, deaf to Cancel.
VERSION_TIMEOUT_S = 20
# How long the scheduler has to take the round's task's stop: it answers in milliseconds, but one stalled (its process
# stopped or swapping, its event loop blocked) keeps its connection open and never answers, and Ctrl-C waited for it.
STOP_WAIT_S = 5.0
# How long the scheduler may leave the round's progress unanswered, past its own time-out, while a Cancel's stop waits
# for it: it has stopped answering, and waiting out STOP_WAIT_S kept the round on "cancelling…" for 5 s more.
CANCEL_SILENT_S = 1.0
# How long a call the scheduler answers at once (the progress Queue's beyond its own time-out, the workers it has) is
# waited for: the Queue's time-out is the scheduler's to keep, and one stalled kept the round's wait, deaf to Cancel,
# for ever. Seconds, not one: a local scheduler on a loaded 2-core machine answers in well under that (a Queue's
# request not answered in time is kept, not given up: see _ProgressEvents).
ANSWER_S = 3.0
# The first thing the round's task puts on its Queue: the address of the worker it runs on (no progress event).
RUNNING_ON = "running_on"
# How long the scheduler may leave the round's progress request unanswered before the round says it waits for it: the
# laptop's network gone (or the scheduler's process stopped), the line stayed on the last training step, its time left
# running out, for as long as the silence lasted.
SILENT_TOLD_S = 5.0
# The progress event of a round waiting for its silent scheduler (round_progress.describe words it).
UNANSWERED = "unanswered"


class CancelledUnconfirmed(TrainingCancelled, ParticleDetectError):
    """A round cancelled (nothing changed) whose task the scheduler was not able to tell to stop: a cancel to the
    dock, with its one line of why, and a ParticleDetectError to a caller that tells those."""


def pack_model(model: DetectorModel) -> dict:
    """A model as plain data (tensors, a card's fields, the criterion's bytes) to send to a worker."""
    return {"state": {k: v.detach().cpu() for k, v in model.network.state_dict().items()},
            "card": json.dumps(model.card.to_dict()),
            "criterion": model.criterion.to_bytes() if model.criterion is not None else None}


def unpack_model(packed: dict) -> DetectorModel:
    card = ModelCard.from_dict({**json.loads(packed["card"]), "criterion": None}, "remote model")
    network = network_for_weights(card)  # the worker's seeded stream is not drawn from for weights replaced here
    network.load_state_dict(packed["state"])
    criterion = Criterion.from_bytes(packed["criterion"], "remote criterion") if packed["criterion"] else None
    return DetectorModel(network.eval(), card, criterion=criterion)


def remote_fine_tune(packed: dict, examples: list[Example], config: TrainConfig, device: str, key: str,
                     unlabelled: list[Example] | None = None) -> dict:
    """Runs on the worker: the round, with progress to the Queue and cancel from the Event named by
    ``key``; ``unlabelled``: the unreviewed frames its teacher pseudo-labels."""
    from distributed import Event, Queue, get_worker

    events, stop = Queue(f"progress-{key}"), Event(f"cancel-{key}")
    worker = get_worker().address
    events.put({RUNNING_ON: worker})
    result = fine_tune(unpack_model(packed), examples, config, device,
                       progress=lambda event: events.put(_on_worker(event, worker)), cancel=stop.is_set,
                       unlabelled=unlabelled)
    # Its device alone does not say which machine: a remote round's card names the worker it trained on.
    result.model.card.training["fine_tuned"]["worker"] = worker
    return {"model": pack_model(result.model), "trained_examples": result.trained_examples,
            "held_out_tiles": result.held_out_tiles, "score": result.score, "parent_score": result.parent_score,
            "history": result.history, "seconds": result.seconds, "pseudo_frames": result.pseudo_frames}


def _on_worker(event: dict, worker: str) -> dict:
    """A worker's progress event, its "preparing" naming the worker: told after "starting the round on the dask worker
    X…", the bare "preparing the reviewed frames…" read as a step back to the laptop's own preparing."""
    return {**event, "worker": worker} if event.get("phase") == "preparing" else event


def run_round_remote(
    project: Project,
    stack,
    scheduler: str | object,
    config: TrainConfig = FINE_TUNE,
    device: str = "auto",
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    worker_defaults: bool = False,
) -> RoundOutcome:
    """:func:`rounds.run_round` with the training on a dask worker; ``scheduler`` is an address
    ("tcp://gpu-node:8786") or a ``distributed.Client``. ``device`` is the worker's ("auto": its GPU if it has one).
    ``worker_defaults``: the round's steps, crops per step, learning rate and unreviewed frames are the
    worker's defaults, not ``config``'s (the dock asks for that while its boxes hold this computer's
    defaults: a laptop's 200 steps are not what a GPU worker should train)."""
    from distributed import Event, Queue

    from ..files.distributed import quiet_distributed_logs, scheduler_address

    report = _with_time_waited(progress or (lambda event: None), time.monotonic())
    trained_on = TrainedOn.now(project)
    parent, base, examples = prepare_round(project, stack)
    own_client = not hasattr(scheduler, "submit")
    client = _connect(scheduler, cancel) if own_client else scheduler
    key = uuid.uuid4().hex
    workspace = None
    # A lost scheduler's tracebacks (its client reconnecting, then closed) say nothing: the one line said is ours.
    with quiet_distributed_logs():
        try:
            events = _ProgressEvents(_answered(client, partial(Queue, f"progress-{key}", client=client), cancel),
                                     cancel)
            stop = Event(f"cancel-{key}", client=client)
            vetted = refuse_other_versions(client, cancel, VERSION_TIMEOUT_S)
            if worker_defaults:
                # Asked on the worker: a GPU's long rounds there, whatever this computer has.
                asked = client.submit(round_defaults, device, pure=False)
                _wait(client, asked, events, stop, cancel, report, vetted)
                # It says no worker (no RUNNING_ON): one that joined since the versions were asked (none was there
                # yet) may have run it, and another version's defaults failed in this TrainConfig or passed unsaid.
                vetted |= refuse_other_versions(client, cancel, VERSION_TIMEOUT_S,
                                                workers=[w for w in _listed_workers(client, cancel)
                                                         if w not in vetted])
                config = replace(config, **asked.result())
            config = retry_seed(project, parent, config)
            report({"phase": "preparing", "where": scheduler_address(client),
                    "steps": config.epochs * config.steps_per_epoch, "unlabelled_frames": config.unlabelled_frames})
            unlabelled = unreviewed_to_send(project, stack, examples, config)
            future = client.submit(remote_fine_tune, pack_model(base), examples, config, device, key, unlabelled,
                                   pure=False)
            _wait(client, future, events, stop, cancel, report, vetted)
            _pass_on(events, 0, report)
            try:
                returned = _fetched(future, cancel)
            except (TrainingCancelled, ParticleDetectError):
                raise
            except Exception as exc:  # the worker's error, raised here
                text = (str(exc).strip().splitlines() or [""])[0]  # one line: dask's own errors run on
                raise ParticleDetectError(f"{scheduler_address(client)}: the remote fine-tuning round failed: "
                                          f"{type(exc).__name__}: {text}") from None
            result = RoundResult(model=unpack_model(returned["model"]), trained_examples=returned["trained_examples"],
                                 held_out_tiles=returned["held_out_tiles"], score=returned["score"],
                                 parent_score=returned["parent_score"], history=returned["history"],
                                 seconds=returned["seconds"], pseudo_frames=returned.get("pseudo_frames", 0))
            workspace = project.new_workspace()
            save_model(result.model, workspace / "model")
            return RoundOutcome(workspace, round_info(parent, result, trained_on), result)
        except BaseException:
            if workspace is not None:
                project.discard_workspace(workspace)
            raise
        finally:
            if own_client:
                client.close()


def _with_time_waited(report: Callable[[dict], None], started: float) -> Callable[[dict], None]:
    """``report``, its "done" event given the seconds waited since ``started`` ("waited"): its own "seconds" are the
    worker's, and "finished in 8 s" was said of a round the user had waited 19 s for (connecting, the versions asked,
    the examples sent, the worker starting)."""
    def passed(event: dict) -> None:
        report({**event, "waited": time.monotonic() - started} if event.get("phase") == "done" else event)
    return passed


def _fetched(future, cancel: Callable[[], bool] | None) -> dict:
    """The finished task's result, fetched in a thread of its own, ``cancel()`` obeyed meanwhile (TrainingCancelled):
    the trained model comes back through the scheduler, and one that stopped answering as the round ended (the
    laptop's network gone) kept the round there, deaf to Cancel, until it answered again."""
    fetching = _in_thread(future.result)
    _wait_cancellably([fetching], cancel)
    return fetching.result()


def unreviewed_to_send(project: Project, stack, examples: list[Example],
                       config: TrainConfig) -> SentUnreviewed | None:
    """The unreviewed frames a remote round's teacher labels, read here (where the stack is) to travel with the
    examples: those a local round takes first, and as many spares for frames the teacher is unsure all over (a local
    round asks its stack for them; finetune.label_with_spares looks at no more)."""
    count = int(config.unlabelled_frames)
    if count <= 0 or not examples:
        return None
    # The spares are chosen as a local round asks for them (2 * count, the first frames among them); only the frames
    # sent are read: those not among the spares were read and dropped.
    frames = as_frames(stack)
    choose = unlabelled_frame_numbers(project, len(frames), config.pseudo_choice)
    first = choose(count)
    # Fewer than asked: the stack has no other frame to spare.
    others = [frame for frame in choose(2 * count) if frame not in first] if len(first) == count else []
    spares = [others[i] for i in spread(count, range(len(others)))]
    read = partial(unlabelled_example, project, frames, scale=examples[0].scale)
    return SentUnreviewed([read(frame) for frame in first], [read(frame) for frame in spares])


class SentUnreviewed:
    """Unreviewed frames sent to a worker, given to finetune.fine_tune as a local round's stack gives them (called
    with how many): ``first`` the frames it asks for first, then spares spread over ``spares``. A list would not do:
    fine_tune spreads the frames it takes first over the whole of it, spares and all (with ``pseudo_choice``
    "confident", not the most confident frames)."""

    def __init__(self, first: list[Example], spares: list[Example]) -> None:
        self.first, self.spares = first, spares

    def __call__(self, count: int) -> list[Example]:
        more = spread(count - len(self.first), range(len(self.spares)))
        return self.first[:count] + [self.spares[i] for i in more]


def refuse_other_versions(client, cancel: Callable[[], bool] | None = None,
                          timeout: float = VERSION_TIMEOUT_S, workers: list[str] | None = None) -> set[str]:
    """One ParticleDetectError, before the round, where a worker of the scheduler (or of ``workers``, if given) runs
    another napari-particle-detect (or cannot import it): the round was trained by that version's code, unsaid,
    options it does not know ignored, or failed deep in dask on what this version sends. A worker that has not
    answered in ``timeout`` seconds is one ParticleDetectError naming it; ``cancel()`` is obeyed meanwhile
    (TrainingCancelled). The workers asked, to tell a worker that joined since from them."""
    from ..files.distributed import scheduler_address

    # Each worker asked on its own: one broadcast waits for its slowest worker, and could not name the one stuck.
    asked = {worker: _in_thread(partial(client.run, _version_here(), workers=[worker], on_error="return"))
             # every worker: some dask versions list only 5 in scheduler_info()
             for worker in (_listed_workers(client, cancel) if workers is None else workers)}
    _wait_cancellably(list(asked.values()), cancel, timeout)
    # A worker that left the scheduler since it was listed answers with the error of reaching it, or not at all: it
    # runs no part of the round, and was refused as one stuck or unable to import this package.
    gone = _left_since(client, [worker for worker, answer in asked.items()
                                if not answer.done() or answer.exception() is not None
                                or not isinstance(answer.result().get(worker), str)])
    silent = sorted(worker for worker, answer in asked.items() if not answer.done() and worker not in gone)
    if silent:
        more = f" (and {len(silent) - 1} more)" if len(silent) > 1 else ""
        raise ParticleDetectError(f"{scheduler_address(client)}: the dask worker {silent[0]}{more} did not say which "
                                  f"napari-particle-detect it runs in {timeout:g} s (stuck or overloaded?); restart "
                                  "it, or stop it, and start the round again")
    versions = {}
    for worker, answer in asked.items():
        if worker in gone:
            continue
        try:
            versions.update(answer.result())
        except Exception as exc:  # noqa: BLE001 - the scheduler's connection or dask itself failed, in any type
            raise ParticleDetectError(f"{scheduler_address(client)}: the dask worker {worker} could not be asked "
                                      f"which napari-particle-detect it runs ({type(exc).__name__}: {exc}); start "
                                      "the round again") from None
    others = {worker: version for worker, version in versions.items() if version != __version__}
    if others:
        worker, version = sorted(others.items(), key=lambda item: item[0])[0]
        runs = (f"runs napari-particle-detect {version}" if isinstance(version, str)
                else f"cannot import napari-particle-detect ({type(version).__name__}: {version})")
        raise ParticleDetectError(f"{scheduler_address(client)}: the dask worker {worker} {runs}, this computer "
                                  f"{__version__}; install {__version__} there and start the round again")
    return set(asked)


def _left_since(client, workers: list[str]) -> set[str]:
    """Those of ``workers`` the scheduler no longer lists; none asked about, the scheduler is not asked."""
    if not workers:
        return set()
    present = _answered_at_once(client.nthreads)
    if present is None:
        return set()  # the scheduler gone (or stalled) too: each worker's own error tells
    return {worker for worker in workers if worker not in present}


def _answered_at_once(call: Callable[[], object], cancel: Callable[[], bool] | None = None) -> object | None:
    """``call()``, a request the scheduler answers at once, where it does within ANSWER_S; None where it does not
    (stalled), fails (gone), or ``cancel()`` says so first (a stalled scheduler's question kept Cancel waiting)."""
    asked = _in_thread(call)
    _until_done([asked], ANSWER_S, cancel)
    if not asked.done() or asked.exception() is not None:
        return None
    return asked.result()


def _listed_workers(client, cancel: Callable[[], bool] | None) -> list[str]:
    """The workers the scheduler has (:func:`_answered`)."""
    return list(_answered(client, client.nthreads, cancel))


def _answered(client, call: Callable[[], object], cancel: Callable[[], bool] | None) -> object:
    """``call()``, a request the scheduler answers at once, waited for CONNECT_TIMEOUT_S at most, ``cancel()`` obeyed
    meanwhile (TrainingCancelled): a scheduler stalled with its connection open (its process stopped, swapping) never
    answers, and the round hung there before it began, deaf to Cancel. Not answered, one ParticleDetectError."""
    from ..files.distributed import scheduler_address

    answer = _in_thread(call)
    _wait_cancellably([answer], cancel, CONNECT_TIMEOUT_S)
    if not answer.done():
        raise ParticleDetectError(f"{_stalled(scheduler_address(client))} in {CONNECT_TIMEOUT_S} s; nothing was "
                                  "changed: start the round again")
    return answer.result()


def _stalled(address: str) -> str:
    return f"{address}: the dask scheduler stopped answering (its process stopped or overloaded?)"


def _version_here() -> Callable[[], str]:
    """A function that says which napari-particle-detect the process it runs in imports. Nested, it travels by
    value: a worker of another version may have no such function of this module to call."""
    def version() -> str:
        from napari_particle_detect import __version__ as installed

        return installed
    return version


def _connect(address: str, cancel: Callable[[], bool] | None):
    """A client of the scheduler at ``address``, Cancel obeyed every POLL_S meanwhile (TrainingCancelled): an
    address where nothing answers takes dask CONNECT_TIMEOUT_S to give up on, and the dock's Cancel (or its closing,
    which waits for the round) was ignored that long, then told as a failure. The connection goes on in a thread of
    its own; one made after Cancel is closed there."""
    from ..files.distributed import scheduler_client

    connecting = _in_thread(partial(scheduler_client, address, timeout=f"{CONNECT_TIMEOUT_S}s"))
    try:
        _wait_cancellably([connecting], cancel)
    except TrainingCancelled:
        connecting.add_done_callback(_close_connected)  # at once if it connected since
        raise
    return connecting.result()


def _in_thread(call: Callable[[], object]) -> Future:
    """``call()`` started in a daemon thread of its own, its result (or exception) to come in the Future: a call
    into dask that may never return is waited for in slices, and left behind on Cancel."""
    answer: Future = Future()

    def run() -> None:
        try:
            answer.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            answer.set_exception(exc)

    threading.Thread(target=run, name="particle-detect dask call", daemon=True).start()
    return answer


def _wait_cancellably(futures: list[Future], cancel: Callable[[], bool] | None,
                      timeout: float | None = None) -> None:
    """Until every one of ``futures`` is done or ``timeout`` seconds have passed, ``cancel()`` asked every POLL_S
    (TrainingCancelled)."""
    if not _until_done(futures, timeout, cancel):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")


def _until_done(futures: list[Future], timeout: float | None, cancel: Callable[[], bool] | None,
                given_up: Callable[[], bool] | None = None) -> bool:
    """Waits until every one of ``futures`` is done, ``timeout`` seconds have passed, or ``cancel()`` (or
    ``given_up()``) says so, both asked every POLL_S at most; whether every one is done."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
        if not wait(futures, timeout=max(0.0, left)).not_done:
            return True
        if (cancel is not None and cancel()) or (given_up is not None and given_up()):
            return False
        if deadline is not None and time.monotonic() >= deadline:
            return False


def _close_connected(connected: Future) -> None:
    if connected.exception() is None:
        connected.result().close()


def _wait(client, future, events, stop, cancel: Callable[[], bool] | None, report: Callable[[dict], None],
          vetted: set[str]) -> None:
    """:func:`_wait_on`, the task stopped where anything else ends the wait (Ctrl-C, the caller's ``report``
    failing): its worker trained the round given up to its last step, and the next round queued behind it."""
    try:
        _wait_on(client, future, events, stop, cancel, report, vetted)
    except (TrainingCancelled, ParticleDetectError):
        raise  # the task stopped where it still runs, and a lost scheduler not asked again
    except BaseException:
        _stop_task(client, future, stop)
        raise


def _stop_task(client, future, stop) -> None:
    """The round's task told to stop (it polls ``stop`` every step) and cancelled, as far as the scheduler answers."""
    if client.status == "running":
        _tell_stop(future, stop)


def _tell_stop(future, stop, warn: bool = True, silent: Callable[[], bool] | None = None) -> bool:
    """The round's task told to stop (it polls ``stop`` every step) and cancelled, in a thread of its own waited for
    STOP_WAIT_S at most, or until ``silent()`` says the scheduler has stopped answering: what fails there is not
    raised (the error or cancel being raised says what went wrong). Whether the scheduler answered in time; not, a
    warning says so where ``warn``."""
    def tell() -> None:
        stop.set()
        future.cancel()

    if not _until_done([_in_thread(tell)], STOP_WAIT_S, None, silent):
        if warn:
            log.warning("the dask scheduler did not answer in %g s: the round's task was not told to stop, and may "
                        "run on its worker until the scheduler answers", STOP_WAIT_S)
        return False
    return True


def _wait_on(client, future, events, stop, cancel: Callable[[], bool] | None, report: Callable[[dict], None],
             vetted: set[str]) -> None:
    """Until ``future`` is done, in slices of POLL_S: progress events passed on, the user's Cancel obeyed
    (the worker told through ``stop``; TrainingCancelled), and a scheduler that has had no worker for
    CONNECT_TIMEOUT_S while the task waits to start (none joined, or every one left) one ParticleDetectError (its
    tasks would wait for ever). Busy workers are waited for; the one that said it runs the task is asked after every
    WORKER_CHECK_S, and once it is gone (or the task said it started again: its worker was lost) the task is
    stopped, one ParticleDetectError. A task that dask cancelled (the scheduler lost) is one ParticleDetectError.
    A task started on a worker not among ``vetted`` (those :func:`refuse_other_versions` asked; it joined since) is
    refused alike, and stopped, where that worker runs another napari-particle-detect."""
    from ..files.distributed import SCHEDULER_LOST, cancel_reason, scheduler_address

    address = scheduler_address(client)  # now: a client that lost its scheduler may no longer say it
    silence = _Silence(report, address)
    report = silence.passed
    started = time.monotonic()
    workers = _WorkerWatch(client, started, joined=bool(vetted))
    running_on: list[str] = []  # one worker, unless dask started the task again elsewhere
    asked = started
    told_queued = told_none = False

    def waiting() -> bool:
        # A client that lost its scheduler has cancelled every future of its own, and asks nothing more of it.
        return not future.done() and client.status == "running"

    while waiting():
        running_on += _pass_on(events, POLL_S, report)
        if not waiting():  # lost while the progress was read
            break
        silence.check(events.unanswered_for())
        if cancel is not None and cancel():
            if not _tell_stop(future, stop, warn=False, silent=events.silent_at_cancel):  # the error says so
                # Cancelled, but not plainly: the task may train on, and the next round wait behind it.
                raise CancelledUnconfirmed(f"{_stalled(address)}; the round was cancelled and nothing was changed, "
                                           "but its task may run on its worker until the scheduler answers")
            raise TrainingCancelled("fine-tuning cancelled")
        _refuse_joined_since(client, running_on, vetted, cancel, future, stop)
        if not running_on and not told_queued and time.monotonic() - started > QUEUED_AFTER_S:
            told_queued = _tell_queued(client, address, report, future, cancel)
            told_none = workers.none_seen  # said so already, where no worker was there
        # Asked until the task starts, not once: a busy worker is no fault, but every worker gone while the task
        # waited (killed, retired) left the round waiting for ever, the dock saying the workers were busy.
        if not running_on and workers.none_for(cancel) >= CONNECT_TIMEOUT_S:
            future.cancel()
            raise ParticleDetectError(workers.none_line(address))
        if told_queued and not running_on and workers.none_seen != told_none:
            # The worker starting the round killed: its line stayed on "starting the round on the dask worker X…"
            # until the round gave up on it; one joining since is told anew (the task goes to it).
            told_none = workers.none_seen
            if told_none:
                report({"phase": "queued", "where": address, "workers": 0, "starting_on": None})
            else:
                told_queued = _tell_queued(client, address, report, future, cancel)
        if running_on and (len(running_on) > 1 or time.monotonic() - asked > WORKER_CHECK_S):
            asked = time.monotonic()
            if (len(running_on) > 1 or not _still_there(client, running_on[0], cancel)) and not future.done():
                # dask would start the round over on another worker, from its first step, unsaid.
                _tell_stop(future, stop)
                raise ParticleDetectError(f"{address}: the dask worker training the round ({running_on[0]}) was "
                                          "lost; nothing was changed: start the round again")
    if not future.done() or future.cancelled():
        reason = cancel_reason(future) if future.cancelled() else SCHEDULER_LOST
        why = ("lost the connection to the dask scheduler" if reason == SCHEDULER_LOST
               else f"the dask scheduler cancelled the round's task ({reason or 'no reason given'})")
        raise ParticleDetectError(f"{address}: {why} during the round; nothing was changed: start the round again")


def _tell_queued(client, address: str, report: Callable[[dict], None], future,
                 cancel: Callable[[], bool] | None = None) -> bool:
    """The round's task said to wait for a worker, how many the scheduler has, and the worker starting it where one
    is; False where the scheduler did not answer (to be told at the next poll)."""
    nthreads = _answered_at_once(client.nthreads, cancel)
    if nthreads is None:
        return False
    report({"phase": "queued", "where": address, "workers": len(nthreads),
            "starting_on": _starting_on(client, future, nthreads, cancel)})
    return True


def _starting_on(client, future, nthreads: dict, cancel: Callable[[], bool] | None = None) -> str | None:
    """The worker the scheduler gave ``future``'s task to, where that worker has no more tasks than threads: it is
    starting the round, not busy with other work (a worker's first task loads torch and this package, a GPU node's
    CUDA too: the dock said the idle node was "busy with other work" meanwhile). None where none is, or the scheduler
    does not answer in ANSWER_S."""
    processing = _answered_at_once(client.processing, cancel)
    if processing is None:
        return None
    return next((worker for worker, keys in processing.items()
                 if future.key in keys and len(keys) <= nthreads.get(worker, 0)), None)


class _WorkerWatch:
    """How long ``client``'s scheduler has had no worker at all, asked at most every WORKER_CHECK_S: counted from
    ``started`` until one is seen, and again from the first time none is seen after that. ``joined``: workers were
    seen before (asked their version), so none now means they left, not that none ever came; the count then starts
    once the scheduler says it has none."""

    def __init__(self, client, started: float, joined: bool = False) -> None:
        self.client, self.asked = client, started
        # Not from ``started`` where workers were just seen: a scheduler slow to answer (a loaded laptop's client, a
        # stall) as the task started was counted as having none, and the round said every worker had left.
        self.none_since: float | None = None if joined else started
        self.joined = joined
        self.none_seen = False  # whether the scheduler said, when last asked, that it has no worker

    def none_for(self, cancel: Callable[[], bool] | None = None) -> float:
        now = time.monotonic()
        if now - self.asked >= WORKER_CHECK_S and self.client.status == "running":  # a lost scheduler: no answer
            self.asked = now
            answer = _answered_at_once(self.client.nthreads, cancel)
            # Not answered (a stalled scheduler, or Cancel first): as it was; a lost one's task comes back cancelled.
            present = self.none_since is None if answer is None else bool(answer)
            self.none_seen = answer is not None and not answer
            if present:
                self.none_since, self.joined = None, True
            elif self.none_since is None:
                self.none_since = now
        return 0.0 if self.none_since is None else now - self.none_since

    def none_line(self, address: str) -> str:
        if not self.joined:
            return (f"{address}: no dask worker has joined this scheduler in {CONNECT_TIMEOUT_S} s (the round needs "
                    f"one: dask worker {address})")
        return (f"{address}: every dask worker left this scheduler before the round started (none for "
                f"{CONNECT_TIMEOUT_S} s); nothing was changed: start one (dask worker {address}) and start the round "
                "again")


def _refuse_joined_since(client, running_on: list[str], vetted: set[str], cancel: Callable[[], bool] | None,
                         future, stop) -> None:
    """The round's task stopped, and its version refused (:func:`refuse_other_versions`), where it started on a worker
    that joined the scheduler after the workers were asked their version (none was there yet, or all were busy):
    else another version trained it unsaid, as the check before the round was there to prevent."""
    joined = [worker for worker in running_on if worker not in vetted]
    if not joined:
        return
    try:
        vetted.update(refuse_other_versions(client, cancel, VERSION_TIMEOUT_S, workers=joined))
    except BaseException:
        _tell_stop(future, stop)
        raise


def _still_there(client, worker: str, cancel: Callable[[], bool] | None = None) -> bool:
    """Whether the scheduler still has ``worker``; True where it cannot say (its connection lost: the round's task
    comes back cancelled; stalled; or ``cancel()`` said so first)."""
    if client.status != "running":
        return True
    answer = _answered_at_once(partial(client.nthreads, [worker]), cancel)
    return True if answer is None else bool(answer)


def _pass_on(events: _ProgressEvents, timeout: float, report: Callable[[dict], None]) -> list[str]:
    """Every progress event waiting in the Queue to ``report``, after waiting up to ``timeout`` for the first; the
    addresses of the workers whose task said among them that it started the round."""
    running_on = []
    for event in events.read(timeout):
        if RUNNING_ON in event:
            running_on.append(event[RUNNING_ON])
        else:
            report(event)
    return running_on


class _Silence:
    """A scheduler that leaves the round's progress unanswered SILENT_TOLD_S told once (one UNANSWERED event, one
    warning), and the line it replaced told again once it answers where no newer event came to replace it. Events
    pass through :meth:`passed` to be remembered."""

    def __init__(self, report: Callable[[dict], None], address: str) -> None:
        self.report, self.address = report, address
        self.last: dict | None = None  # the last event passed on
        self.told = False  # whether the UNANSWERED line is the last one said

    def passed(self, event: dict) -> None:
        self.last, self.told = event, False
        self.report(event)

    def check(self, unanswered_s: float) -> None:
        if unanswered_s >= SILENT_TOLD_S and not self.told:
            since = time.strftime("%H:%M:%S", time.localtime(time.time() - unanswered_s))
            log.warning("%s: no answer from the dask scheduler since %s (this computer's network down, or its "
                        "process stopped?): the round waits for it; Cancel (Ctrl-C) gives it up", self.address, since)
            self.told = True
            self.report({"phase": UNANSWERED, "where": self.address, "since": since})
        elif unanswered_s == 0 and self.told:
            self.told = False
            if self.last is not None:  # marked: a training step told again is no second step of the loss curve
                self.report({**self.last, "again": True})


class _ProgressEvents:
    """The round's progress Queue, asked one request at a time. A request the scheduler has not answered ANSWER_S
    after its time-out (stalled: the caller's Cancel is to be heard) is not given up but kept, and its answer read at
    the next look: given up, it still took an event off the Queue once the scheduler answered, and that event was
    lost (a lost RUNNING_ON skipped the check that the round's worker is still there)."""

    def __init__(self, queue, cancel: Callable[[], bool] | None = None) -> None:
        self.queue, self.cancel = queue, cancel  # a request waited for is given up (kept) at once on Cancel
        self.asking: Future | None = None
        self.due = 0.0  # when the request under way was to be answered at the latest (its own time-out)

    def unanswered_for(self) -> float:
        """How long the request under way has gone unanswered past its own time-out; 0 where none is."""
        return 0.0 if self.asking is None else max(0.0, time.monotonic() - self.due)

    def silent_at_cancel(self) -> bool:
        """Whether the scheduler has left a request unanswered CANCEL_SILENT_S past its time-out, one made where none
        is under way: a Cancel's stop is not waited for from a scheduler that has stopped answering (what this
        request takes off the Queue is of a round given up)."""
        if self.asking is None or self.asking.done():  # answered: the scheduler is heard, and asked again
            self.asking = _in_thread(partial(self.queue.get, timeout=POLL_S))
            self.due = time.monotonic() + POLL_S
        return self.unanswered_for() >= CANCEL_SILENT_S

    def read(self, timeout: float) -> list[dict]:
        """Every event waiting, after waiting up to ``timeout`` for the first."""
        first = timeout or 0.01
        ask = partial(self.queue.get, timeout=first)
        kept = self.asking is not None
        got = self._answer(ask, first + ANSWER_S)
        if not got and kept and self.asking is None:
            # The kept request's "none" is older than this look: the round's last events may have come since.
            got = self._answer(ask, first + ANSWER_S)
        # The rest at once (batch: what the Queue holds, no waiting); those put since are the next look's.
        return got + self._answer(partial(self.queue.get, batch=True), ANSWER_S) if got else got

    def _answer(self, ask: Callable[[], object], wait_s: float) -> list[dict]:
        """The events of the request under way, ``ask`` made where none is; none where it is not answered in
        ``wait_s`` (kept for the next look) or failed (the Queue's time-out: none came; or the scheduler lost)."""
        if self.asking is None:
            self.asking = _in_thread(ask)
            self.due = time.monotonic() + wait_s - ANSWER_S
        if not _until_done([self.asking], wait_s, self.cancel):
            return []
        asked, self.asking = self.asking, None
        if asked.exception() is not None:
            return []
        answer = asked.result()
        return answer if isinstance(answer, list) else [answer]
