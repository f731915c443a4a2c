"""The action plan of a result: two or three next steps, each with its tool, and whom to turn to.

Steps come from ``data/knowledge/steps.yml``, written from what the seeds say about building an
alliance. The plan takes the steps made for the user's level that strengthen their weakest
dimension, then one for the next weakest, ranked by how well they fit the door and scale of the
user's situation, never two steps with the same tool. Each step comes with the tool that serves
it, the best ranked for this user among the step's tools. Support structures (« vers qui me
tourner ») are ranked on the user's actor type, scale, door and level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.knowledge.model import Catalogue, Entry
from bot.knowledge.profile import UserProfile
from bot.knowledge.relevance import LEVEL_DISTANCE_FIT, LEVELS, SCALE_DISTANCE_FIT, SCALES, distance_fit

MAX_STEPS = 3
STEPS_FOR_WEAKEST = 2
MAX_SUPPORT = 2


@dataclass(frozen=True)
class PlanStep:
    step: Entry
    tool: Entry | None


@dataclass(frozen=True)
class ActionPlan:
    steps: list[PlanStep]
    support: list[Entry]


def _step_fit(step: Entry, profile: UserProfile, dimension: str) -> float:
    dimensions = step.tags.get("dimensions", ())
    fit = 2.0 if dimension in dimensions else 0.0
    fit += 2.0 * distance_fit(profile.level, step.tags.get("levels", ()), LEVELS, LEVEL_DISTANCE_FIT)
    fit -= 0.1 * (len(dimensions) - 1)  # a step made for this dimension alone before a general one
    return fit


def _best_tool(step: Entry, tools: Mapping[str, Entry], tool_order: Sequence[str], taken: set[str]) -> Entry | None:
    """The step's tool ranked best for this user (``tool_order``), not already given to another step."""
    candidates = [tool_id for tool_id in step.get("tools") or [] if tool_id in tools and tool_id not in taken]
    if not candidates:
        return None
    rank = {tool_id: position for position, tool_id in enumerate(tool_order)}
    return tools[min(candidates, key=lambda tool_id: rank.get(tool_id, len(rank)))]


def next_steps(catalogue: Catalogue, profile: UserProfile, tool_order: Sequence[str] = ()) -> list[PlanStep]:
    """Up to :data:`MAX_STEPS` steps: the weakest dimension first, then the next one."""
    tools = {entry.id: entry for entry in catalogue.of("tool") if entry.recommendable}
    steps = list(catalogue.of("step"))
    wanted = [profile.dimensions_by_need[0]] * STEPS_FOR_WEAKEST if profile.dimensions_by_need else []
    wanted += list(profile.dimensions_by_need[1:2])
    chosen: list[PlanStep] = []
    taken_tools: set[str] = set()
    for dimension in wanted:
        candidates = [step for step in steps if dimension in step.tags.get("dimensions", ())
                      and step.id not in {item.step.id for item in chosen}]
        candidates.sort(key=lambda step: -_step_fit(step, profile, dimension))
        for step in candidates:
            tool = _best_tool(step, tools, tool_order, taken_tools)
            if tool is not None:
                chosen.append(PlanStep(step, tool))
                taken_tools.add(tool.id)
                break
        if len(chosen) == MAX_STEPS:
            break
    return chosen


def _support_fit(entry: Entry, profile: UserProfile) -> float:
    helps = entry.tags.get("helps", ()) or entry.tags.get("actor_types", ())
    fit = 3.0 if profile.actor_type in helps else (1.0 if not helps else 0.0)
    fit += 2.0 * distance_fit(profile.scale, entry.tags.get("scale", ()), SCALES, SCALE_DISTANCE_FIT)
    fit += 1.0 * (profile.door in entry.tags.get("doors", ()))
    fit += 1.0 * distance_fit(profile.level, entry.tags.get("levels", ()), LEVELS, LEVEL_DISTANCE_FIT)
    if profile.theme and entry.tags.get("themes"):
        fit += 1.0 if profile.theme in entry.tags["themes"] else -1.0
    return fit


def support_structures(catalogue: Catalogue, profile: UserProfile, limit: int = MAX_SUPPORT) -> list[Entry]:
    """The support structures that best fit the user's actor type and scale (« vers qui me tourner »)."""
    ranked = sorted(catalogue.of("support_structure"), key=lambda entry: -_support_fit(entry, profile))
    return ranked[:limit]


def action_plan(catalogue: Catalogue, profile: UserProfile, tool_order: Sequence[str] = ()) -> ActionPlan:
    return ActionPlan(next_steps(catalogue, profile, tool_order), support_structures(catalogue, profile))
