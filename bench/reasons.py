"""Why a target is missed, written by a person after reading the measurement (the benchmark
cannot know it). Keyed by the target's name as the benchmark prints it; ``targets_lines``
writes the reason under the gap, or a placeholder when none is written here. A reason that no
longer applies (the target is met) is simply not shown."""

REASONS: dict[str, str] = {}
