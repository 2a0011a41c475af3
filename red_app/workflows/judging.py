"""A judge's settings, resolved once for every door (``red run``, ``red judge-eval``, the
Run page): flag > environment > project > default. A run stores them; every resume reads
them back, so a resumed run asks the judge it started with unless told otherwise.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace

from ..errors import RedError
from ..judges import packaged_models
from ..judges.base import Judge
from ..judges.factory import JUDGE_KINDS, make_judge
from ..judges.ollama_judge import DEFAULT_HOST as OLLAMA_DEFAULT_HOST
from ..judges.ollama_judge import DEFAULT_MODEL as OLLAMA_DEFAULT_MODEL
from ..judges.openai_judge import DEFAULT_URL as OPENAI_DEFAULT_URL
from ..judges.openai_judge import split_urls
from ..judges.simulated import ExpertProfile, parse_profile
from ..project.store import Project

JUDGE_HELP = {
    "human": "you and your team answer the proposals in Review; the run goes on as the answers come in",
    "simulated": "knows the hidden gold: for trying the loop and measuring it (needs a pool imported as hidden-gold)",
    "ollama": "a model on your Ollama server",
    "embedded": "a small model that runs here, offline — a weak judge",
    "openai": "one or several OpenAI-compatible servers (e.g. `red serve-judge` on spare machines)",
}

# What to do when a judge fails, in words a page or the command line can show.
FIXES = {
    "ollama": "Start the Ollama server (`ollama serve`) on the host set for this project and pull the model "
              "(`ollama pull MODEL`); Test connection checks both.",
    "openai": "Start the server(s) (e.g. `red serve-judge`) and check the URLs; Test connection lists their models.",
    "embedded": "Install the embedded model (`make judge-model`).",
}

# project settings a judge reads (admins change them; see red_app.workflows.accounts)
PROJECT_KEYS = {"host": "ollama_host", "ollama_model": "ollama_model", "urls": "openai_urls",
                "openai_model": "openai_model"}


@dataclass(frozen=True)
class JudgeSettings:
    """Everything that decides which judge answers and how. ``None`` means "not given":
    :meth:`resolved` fills it from the environment, then the project, then the default."""

    kind: str = "simulated"
    accuracy: float = 1.0            # simulated: how often it is right
    profile: str | None = None       # simulated: realistic, embedded-1.5b, RIGHT,WRONG or a profile .json
    host: str | None = None          # ollama
    model: str | None = None         # ollama / embedded / openai
    urls: tuple[str, ...] | None = None  # openai
    timeout: float = 60.0
    concurrency: int | None = None
    threads: int | None = None       # embedded
    wait: float | None = 3600.0      # human: seconds a run waits for answers (None: until they come)
    poll: float = 2.0                # human: seconds between looks at the answers
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in JUDGE_KINDS:
            raise RedError(f"unknown judge {self.kind!r}; use one of {', '.join(JUDGE_KINDS)}")
        if self.profile:
            try:
                parse_profile(self.profile)
            except ValueError as exc:
                raise RedError(f"--judge-profile: {exc}") from None
        if self.urls is not None and not isinstance(self.urls, tuple):
            object.__setattr__(self, "urls", tuple(split_urls(self.urls)))

    # -- resolving ------------------------------------------------------------------------

    def resolved(self, project: Project | None) -> "JudgeSettings":
        """The settings with every blank filled: environment, then project, then default."""
        get = project.get_setting if project is not None else (lambda key, default=None: default)
        if self.kind == "ollama":
            host = self.host or os.environ.get("OLLAMA_HOST") or get("ollama_host") or OLLAMA_DEFAULT_HOST
            if not host.startswith(("http://", "https://")):
                host = "http://" + host
            return replace(self, host=host, model=self.model or get("ollama_model") or OLLAMA_DEFAULT_MODEL)
        if self.kind == "openai":
            urls = self.urls or tuple(split_urls(os.environ.get("RED_JUDGE_URL") or get("openai_urls") or ""))
            return replace(self, urls=urls or (OPENAI_DEFAULT_URL,), model=self.model or get("openai_model") or None)
        if self.kind == "embedded" and not self.model:
            have = packaged_models.available()
            return replace(self, model=have[0] if have else None)
        return self

    def to_dict(self) -> dict:
        """What a run stores (``runs.config["judge"]``); no secret is ever part of it."""
        d = asdict(self)
        d["urls"] = list(self.urls) if self.urls else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "JudgeSettings":
        """Settings a run stored; runs stored before the settings were kept whole give what they kept."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in (d or {}).items() if k in known}
        if kw.get("urls"):
            kw["urls"] = tuple(kw["urls"])
        return cls(**kw)

    def over(self, stored: "JudgeSettings | None", given: set[str]) -> "JudgeSettings":
        """These settings laid over ``stored`` (a run's own, on resume): only the fields in ``given``
        (what the person asked for now) replace the stored ones; a new kind starts from its defaults."""
        if stored is None or ("kind" in given and self.kind != stored.kind):
            return self
        return replace(stored, **{k: getattr(self, k) for k in given if k != "kind"})

    def expert_profile(self) -> ExpertProfile | None:
        """How the simulated judge errs (``--judge-profile``), or None: symmetric at ``accuracy``."""
        return parse_profile(self.profile) if self.profile else None

    # -- the judge ------------------------------------------------------------------------

    def build(self, project: Project | None = None) -> Judge:
        """The judge these settings describe, wired to ``project`` (gold, settings, verdict cache)."""
        s = self.resolved(project)
        if s.kind == "simulated":
            if project is None:
                raise RedError("the simulated judge needs a project with hidden gold labels")
            pool_gold = project.hidden_gold(role="pool")
            if not pool_gold:
                raise RedError("the simulated judge needs hidden gold labels: import the pool with --mode "
                               "hidden-gold, or let people judge (--judge human) or use an LLM judge")
            # the seeds' own labels too: the judge is measured on seeds first
            return make_judge("simulated", gold={**project.seed_labels(), **pool_gold}, accuracy=s.accuracy,
                              seed=s.seed, profile=s.expert_profile())
        if s.kind == "ollama":
            return make_judge("ollama", host=s.host, model=s.model, timeout=s.timeout,
                              concurrency=s.concurrency or 4, cache=project)
        if s.kind == "embedded":
            return make_judge("embedded", model=s.model, threads=s.threads, cache=project)
        if s.kind == "openai":
            # concurrency None: two requests in flight per server
            return make_judge("openai", urls=list(s.urls), model=s.model, timeout=s.timeout,
                              concurrency=s.concurrency, cache=project)
        return make_judge("human", wait=s.wait, poll=s.poll)

    def remember(self, project: Project) -> None:
        """Keep the servers and models these settings name as the project's (an admin's choice)."""
        if self.kind == "ollama":
            for key, value in (("ollama_host", self.host), ("ollama_model", self.model)):
                if value:
                    project.set_setting(key, value)
        elif self.kind == "openai":
            if self.urls:
                project.set_setting("openai_urls", ",".join(self.urls))
            if self.model:
                project.set_setting("openai_model", self.model)


def run_judge_settings(project: Project, run_id: int) -> JudgeSettings | None:
    """The judge settings run ``run_id`` stored (None for a run stored without a kind)."""
    stored = project.run_config(run_id).get("judge") or {}
    if not stored.get("kind"):
        return None
    return JudgeSettings.from_dict(stored)


LAST_SETTINGS_KEY = "judge_settings"


def save_judge_settings(project: Project, settings: JudgeSettings) -> None:
    """Keep the settings of the judge a person chose (offered first next time), and the
    servers they name as the project's."""
    import json

    project.set_setting(LAST_SETTINGS_KEY, json.dumps(settings.to_dict()))
    settings.remember(project)


def last_judge_settings(project: Project) -> JudgeSettings | None:
    """The settings last chosen on this project (None: none yet, or unreadable)."""
    import json

    raw = project.get_setting(LAST_SETTINGS_KEY)
    try:
        return JudgeSettings.from_dict(json.loads(raw)) if raw else None
    except (ValueError, TypeError, RedError):
        return None


def settings_for_resume(project: Project, run_id: int, given: JudgeSettings | None = None,
                        fields_given: set[str] = frozenset()) -> JudgeSettings:
    """The judge a resumed run asks: its own stored settings, with what the person gave now
    laid over them (``fields_given``); a run stored without any, the settings given."""
    stored = run_judge_settings(project, run_id)
    if given is None:
        if stored is None:
            raise RedError(f"run {run_id} stored no judge; resume it with a judge given (--judge)")
        return stored
    return given.over(stored, set(fields_given))


def fix_for(kind: str | None) -> str:
    """What to do when a judge of ``kind`` fails."""
    return FIXES.get(kind or "", "Check the judge's settings.")


def check_judge(judge: Judge) -> str:
    """Ask the judge's server(s) whether they answer; a line that says so (RedError when not)."""
    judge.check()
    down = [u for u, s in (judge.server_stats() or {}).items() if s["set_aside"]]
    return f"{judge.describe()}: connected" + (f"; not answering: {', '.join(down)}" if down else "")


def default_kind(project: Project) -> str:
    """The judge a page offers first: one that works on this project. Hidden gold: the
    simulated judge (for trying the loop); else a person."""
    return "simulated" if project.hidden_gold(role="pool") else "human"


def installed_models() -> list[str]:
    """Packaged judge models installed on this machine."""
    return packaged_models.available()


def model_notes() -> dict[str, str]:
    return {name: m.note for name, m in packaged_models.MODELS.items()}
