package console

// QRDataURI lets the tests read the QR codes the console draws.
var QRDataURI = qrDataURI
