"""Analysis runs of a survey wave: the model, the computation of the tables (with the
small-cell rule, the results paragraph and the charts), the services and the pages."""
