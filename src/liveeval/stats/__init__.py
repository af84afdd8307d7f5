"""Pure statistics: drift tests, rates, means, histograms, change detection and quality drift."""
