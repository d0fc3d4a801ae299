"""tinycrm: a terminal CRM for small sales teams.

Importing the package must stay cheap: no third-party imports here.
"""

__version__ = "0.1.0"
