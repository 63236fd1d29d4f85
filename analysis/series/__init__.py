"""Results of a wave series: change over time, paired where answers link, with effect sizes."""
