// Every record type Sluice can emit, by full protobuf name (map stages name them in config).
import { createRegistry } from '@bufbuild/protobuf';
import { file_recommender } from './recommender_pb.ts';

export const recordTypes = createRegistry(file_recommender);
