"""Regional administration: tokens, upload jobs, audit."""
