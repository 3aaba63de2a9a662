// Ambient types for the global `WebAssembly` API that Node 20 provides. The project compiles with
// lib ES2023 and @types/node 20, neither of which declares it (it lives in lib.dom). Only the subset the
// proxy-wasm host uses is declared here; widen it when a caller needs more.

declare global {
  namespace WebAssembly {
    type ImportExportKind = 'function' | 'table' | 'memory' | 'global';
    interface ModuleImportDescriptor {
      module: string;
      name: string;
      kind: ImportExportKind;
    }
    interface ModuleExportDescriptor {
      name: string;
      kind: ImportExportKind;
    }
    class Module {
      constructor(bytes: BufferSource);
      static imports(module: Module): ModuleImportDescriptor[];
      static exports(module: Module): ModuleExportDescriptor[];
      static customSections(module: Module, sectionName: string): ArrayBuffer[];
    }
    type ImportValue = ((...args: never[]) => unknown) | Global | Memory | Table | number | bigint;
    type ModuleImports = Record<string, ImportValue>;
    type Imports = Record<string, ModuleImports>;
    type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;
    type Exports = Record<string, ExportValue>;
    class Instance {
      constructor(module: Module, importObject?: Imports);
      readonly exports: Exports;
    }
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'anyfunc' | 'externref';
    interface GlobalDescriptor {
      value: ValueType;
      mutable?: boolean;
    }
    class Global {
      constructor(descriptor: GlobalDescriptor, v?: unknown);
      value: unknown;
      valueOf(): unknown;
    }
    interface TableDescriptor {
      element: 'anyfunc' | 'externref';
      initial: number;
      maximum?: number;
    }
    class Table {
      constructor(descriptor: TableDescriptor, value?: unknown);
      readonly length: number;
      get(index: number): unknown;
      grow(delta: number, value?: unknown): number;
      set(index: number, value?: unknown): void;
    }
    class CompileError extends Error {}
    class LinkError extends Error {}
    class RuntimeError extends Error {}
    interface WebAssemblyInstantiatedSource {
      module: Module;
      instance: Instance;
    }
    function compile(bytes: BufferSource): Promise<Module>;
    function instantiate(bytes: BufferSource, importObject?: Imports): Promise<WebAssemblyInstantiatedSource>;
    function instantiate(module: Module, importObject?: Imports): Promise<Instance>;
    function validate(bytes: BufferSource): boolean;
  }
  type BufferSource = ArrayBufferView | ArrayBuffer;
}

export {};
