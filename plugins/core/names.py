"""What a program calls its two funds: the one accessor of the words users read.

The engine and its faces are written in one vocabulary, the generic names of the two
funds (助保金, 风险补偿金). A program whose documents call its funds otherwise (白银's
互助担保金, 海口金保贷's 补偿资金, 坪山's 资金池) names them in its block of rules.yaml::

    programs:
      HKJB:
        names: {risk_fund: 补偿资金}

and every text shown about that program goes through its :class:`FundNames`
(``Program.names``): :meth:`FundNames.say` puts the program's names in place of the
generic ones in a text of the project's own (a finding's message and figure labels, a page
heading, a report column, a role's label); :meth:`FundNames.fund` names one fund. A
program without ``names:`` keeps the generic names, word for word.

Only the project's own texts are rewritten: the rule engine applies :meth:`say` to the
message it composes (:meth:`zhubaodai.core.engine.Context.report`), never to a value read
from the ledger on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The fund kinds a program may name (its account roles), with their generic names.
GENERIC: dict[str, str] = {"guarantee_fund": "助保金", "risk_fund": "风险补偿金"}
#: The engine's fund keys (zhubaodai.core.engine.GUARANTEE, RISK) -> the fund kinds.
FUND_KINDS: dict[str, str] = {"guarantee": "guarantee_fund", "risk": "risk_fund"}
#: The longest name accepted (a name is a term, not a sentence).
MAX_LENGTH = 12

_GENERIC_RE = re.compile("|".join(re.escape(word) for word in GENERIC.values()))
_KIND_OF_WORD = {word: kind for kind, word in GENERIC.items()}


@dataclass(frozen=True)
class FundNames:
    """A program's names of its funds (the generic names where it gives none)."""

    guarantee_fund: str = GENERIC["guarantee_fund"]
    risk_fund: str = GENERIC["risk_fund"]

    @property
    def generic(self) -> bool:
        """Whether these are the generic names (nothing to rewrite)."""
        return self == GENERIC_NAMES

    def of(self, kind: str) -> str:
        """The name of a fund kind (``guarantee_fund`` or ``risk_fund``)."""
        return str(getattr(self, kind))

    def fund(self, fund: str) -> str:
        """The name of one of the engine's funds (``guarantee`` or ``risk``)."""
        return self.of(FUND_KINDS[fund])

    def described(self) -> str:
        """'风险补偿金称“补偿资金”' for each fund the program names ('' for none), as
        ``zbd rules`` and docs/rules.md show the program's ``names:``."""
        return "；".join(
            f"{generic}称“{self.of(kind)}”" for kind, generic in GENERIC.items() if self.of(kind) != generic
        )

    def say(self, text: str) -> str:
        """``text`` (written with the generic names) in this program's words. Both names
        are replaced in one pass, so a program's name that contains the other generic
        word is not rewritten twice."""
        if self.generic:
            return text
        return _GENERIC_RE.sub(lambda m: self.of(_KIND_OF_WORD[m.group(0)]), text)


GENERIC_NAMES = FundNames()
