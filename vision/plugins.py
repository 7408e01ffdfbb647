"""The face detector and recognizer plugins, one row each (see edge_models.plugins)."""

from __future__ import annotations

from edge_models.plugins import Plugin, Registry

DETECTORS = Registry("detector", {
    "yunet": Plugin("vision.detectors.yunet:YuNetDetector", "OpenCV Zoo YuNet, fast, five landmarks"),
    "scrfd": Plugin("vision.detectors.scrfd:ScrfdDetector", "InsightFace SCRFD-500M, finds smaller faces"),
})

RECOGNIZERS = Registry("recognizer", {
    "mobilefacenet": Plugin("vision.recognizers.mobilefacenet:MobileFaceNetRecognizer",
                            "MobileFaceNet (sirius, 192-d), the default"),
    "dlib_resnet": Plugin("vision.recognizers.dlib_resnet:DlibResNetRecognizer", "dlib ResNet-34 (face-api.js export, 128-d)"),
})
