"""model/mxnet"""
