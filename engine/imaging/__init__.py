"""Images of a case: reading DICOM (a file or a series) and PNG/JPEG/SVG, windowing for
display, the size limits, and the privacy check and de-identification of DICOM.

Imports only :mod:`ossdx.core`; knows nothing about bones. Layout:

* :mod:`ossdx.imaging.limits`: the size caps and the error this layer raises;
* :mod:`ossdx.imaging.privacy`: which DICOM attributes identify a person, and removing them;
* :mod:`ossdx.imaging.dicom`: a DICOM series as slices of modality values, and windowing;
* :mod:`ossdx.imaging.files`: what kind of image a file is, and checking one for a case.
"""
