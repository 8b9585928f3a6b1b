"""Tests of the OpenCL backend at the array level."""
