"""Reports and exports: the registry of export kinds, background export jobs, the table,
survey and PDF builders, and the reports pages."""
