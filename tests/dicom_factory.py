"""Small DICOM files built in the tests with pydicom: a CT phantom of known Hounsfield units.

Each slice is 32 x 32: air (-1000 HU) around a disc of soft tissue (40 HU) with a square of
bone (1000 HU) in its middle. Stored values are (HU - intercept) / slope, so a reader that
ignores the rescale slope and intercept gets other numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

AIR, SOFT, BONE = -1000.0, 40.0, 1000.0
SLOPE, INTERCEPT = 2.0, -1024.0
SIZE = 32
BONE_AT = (16, 16)   # a bone pixel
SOFT_AT = (16, 8)    # a soft-tissue pixel
AIR_AT = (1, 1)      # an air pixel
PATIENT = "Doe^Jane"


def phantom_hu(shift: int = 0) -> np.ndarray:
    """The slice in Hounsfield units; ``shift`` moves the bone square (so slices differ)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    hu = np.full((SIZE, SIZE), AIR)
    hu[(y - 16) ** 2 + (x - 16) ** 2 <= 12 ** 2] = SOFT
    hu[14 + shift:19 + shift, 14:19] = BONE
    return hu


def ct_slice(index: int = 0, *, series_uid: str | None = None, study_uid: str | None = None,
             identifying: bool = True, window: tuple[float, float] | None = None) -> Dataset:
    """One CT slice; with ``identifying`` it carries a patient name, ID, birth date,
    institution, accession number and study date like a file from a scanner, without it
    only UIDs and the statement that the identity was removed."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.Modality = "CT"
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    if not identifying:
        ds.PatientIdentityRemoved = "YES"
    else:
        ds.PatientName = PATIENT
        ds.PatientID = "MRN-0042"
        ds.PatientBirthDate = "19600101"
        ds.InstitutionName = "General Hospital"
        ds.AccessionNumber = "ACC123"
        ds.StudyDate = "20240102"
    ds.InstanceNumber = index + 1
    ds.ImagePositionPatient = [0.0, 0.0, float(index) * 5.0]
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = SLOPE
    ds.RescaleIntercept = INTERCEPT
    if window:
        ds.WindowWidth, ds.WindowCenter = window
    stored = ((phantom_hu(index) - INTERCEPT) / SLOPE).astype(np.int16)
    ds.PixelData = stored.tobytes()
    return ds


def write_series(folder: Path, count: int = 3, **kwargs: object) -> list[Path]:
    """``count`` slices of one series, written as folder/slice_<n>.dcm (reverse order, so a
    reader must sort them)."""
    folder.mkdir(parents=True, exist_ok=True)
    series, study = generate_uid(), generate_uid()
    paths = []
    for index in reversed(range(count)):
        path = folder / f"slice_{count - index}.dcm"
        ct_slice(index, series_uid=series, study_uid=study, **kwargs).save_as(
            path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_slice(path: Path, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ct_slice(**kwargs).save_as(path, enforce_file_format=True)
    return path
