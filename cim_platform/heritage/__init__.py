"""Historic buildings (issue 10): declaration records, groups, reviewed edits, archives and protection checks.

Loading the domain registers its publish guard (``approvals``: dataset revisions overlapping protection
zones are published only with an approval reference) and its after-publish hook (``watch``: the
demolition watch on newly published footprint layers).
"""

from cim_platform.heritage import approvals as approvals
from cim_platform.heritage import job_links as job_links  # conversions link their protection conflicts
from cim_platform.heritage import scopes as scopes  # registers the domain's scopes
from cim_platform.heritage import watch as watch
