"""geotag"""
