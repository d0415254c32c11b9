/** Vite answers an import ending in `?url` with the URL it serves the file at (a WebAssembly binary here). */
declare module '*?url' {
  const url: string;
  export default url;
}
