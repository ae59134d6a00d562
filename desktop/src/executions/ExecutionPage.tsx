export default function ExecutionPage({ id }: { id: string }) {
  return <p>{id}</p>;
}
