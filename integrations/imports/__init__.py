"""File imports: a legacy federation file (or a provider's JSON export) run through a mapping recipe onto a
canonical model, its accepted rows handed to the outbox of the integration they target, once each, its
rejected rows kept row by row in a downloadable error report."""
