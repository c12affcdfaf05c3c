"""The what-if simulator and the synthetic city it runs on."""
