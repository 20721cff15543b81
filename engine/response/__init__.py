"""Treatment response of bone metastases (MD Anderson, with WHO and UICC): criteria, response
files and assessment. Imports ``core``, ``kb`` and ``reasoning``."""
