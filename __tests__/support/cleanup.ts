// jest setupFilesAfterEnv: after each test file, remove the temp dirs its tests made (support/tmp.ts).
import { removeTempDirs } from './tmp';

afterAll(removeTempDirs);
