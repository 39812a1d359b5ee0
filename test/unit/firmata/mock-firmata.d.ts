// mock-firmata ships no types; the tests load it through createRequire and cast.
declare module 'mock-firmata';
